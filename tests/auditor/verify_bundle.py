#!/usr/bin/python3
"""An auditor's verifier for cairn.bundle/v1, written from docs/formats.md,
RFC 9162 section 2.1, the C2SP signed-note and tlog-checkpoint texts and DSSE. It
shares no code with Cairn: Python's hashlib for SHA-256 and the
cryptography package (OpenSSL) for Ed25519, where Cairn uses libsodium and
its own Merkle code. The tests run it on bundles a real ledger exported, so
a bundle that only Cairn's own verifier accepts fails the build.

  verify_bundle.py BUNDLE --vkey VKEY   check a bundle (exit 0 ok, 1 findings)
  verify_bundle.py --intoto FILE --vkey VKEY --bundle BUNDLE
                                        check `cairn export --intoto` output: each
                                        line a DSSE envelope signed by the log key
                                        holding an in-toto Statement v1 about an
                                        entry of BUNDLE (which must verify)
  verify_bundle.py --consistency OLD NEW PROOF --vkey VKEY
                                        check that the log of signed checkpoint
                                        NEW extends that of OLD (files: the two
                                        notes, and `cairn log consistency`'s
                                        base64 hashes, one per line)
  verify_bundle.py --vectors DIR        check the proof algorithms against
                                        transparency-dev/merkle's testdata
                                        (inclusion/, consistency/) and the
                                        signed-note code against Go's note
                                        package example
"""
import base64
import binascii
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(leaf):
    return sha256(b"\x00" + leaf)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def shift_while_even(fn, sn):
    """RFC 9162's "right-shift both fn and sn equally until either LSB(fn)
    is set or fn is 0"."""
    while not fn & 1 and fn != 0:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 section 2.1.3.2, step by step (hashes are 32 bytes)."""
    if index >= size or len(leaf) != 32 or len(root) != 32 or any(len(p) != 32 for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(size1, size2, root1, root2, proof):
    """RFC 9162 section 2.1.4.2, step by step; a proof from size 0 is refused,
    equal sizes need an empty proof and equal roots."""
    if size1 == 0 or size2 < size1:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if not proof or len(root1) != 32 or len(root2) != 32 or any(len(p) != 32 for p in proof):
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            fn, sn = shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


def b64(text, what):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as e:
        raise ValueError("%s is not base64: %s" % (what, e))


def parse_vkey(vkey):
    """name+keyid+base64(0x01 || public key); the key id is checked."""
    name, keyid, key = vkey.strip().split("+", 2)  # the name has no "+", base64 may
    raw = b64(key, "the vkey's key")
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError("the vkey is not an Ed25519 key (type 0x01, 32 bytes)")
    want = sha256(name.encode() + b"\n" + raw)[:4].hex()
    if keyid != want:
        raise ValueError("the vkey's key id is %s, its key hashes to %s" % (keyid, want))
    return name, bytes.fromhex(keyid), Ed25519PublicKey.from_public_bytes(raw[1:])


def verify_note(note, vkey):
    """Returns the text of a signed note that carries a good signature by
    vkey (C2SP signed-note: signatures by other keys are skipped)."""
    name, keyid, pub = vkey
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        raise ValueError("the note has no signature block")
    text += "\n"
    signed = False
    for line in sigs.split("\n"):
        if not line:
            continue
        if not line.startswith("\u2014 "):
            raise ValueError("not a signature line: %r" % line)
        who, _, sig = line[2:].rpartition(" ")
        raw = b64(sig, "a signature")
        if who != name or raw[:4] != keyid:
            continue  # a key we do not know (a witness, say)
        try:
            pub.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise ValueError("the signature by %s does not verify" % name)
        signed = True
    if not signed:
        raise ValueError("no signature by %s" % name)
    return text


def verify_checkpoint(note, vkey):
    """Returns (origin, size, root) of a checkpoint signed by vkey."""
    name = vkey[0]
    lines = verify_note(note, vkey).split("\n")
    origin, size, root = lines[0], int(lines[1]), b64(lines[2], "the root")
    if origin != name:
        raise ValueError("the checkpoint's origin %r is not the key's name" % origin)
    if len(root) != 32 or str(size) != lines[1]:
        raise ValueError("the checkpoint's size or root is malformed")
    return origin, size, root


LEAF_LINES = ["origin", "index", "topic", "key", "payload", "change", "release", "prev", "time"]
OPTIONAL = {"key", "change", "release", "prev"}


def parse_leaf(leaf):
    """The leaf's fields, in the order and with the presence rules of
    docs/formats.md."""
    text = leaf.decode("utf-8")
    if not text.endswith("\n"):
        raise ValueError("the leaf does not end in a newline")
    lines = text[:-1].split("\n")
    if lines[0] != "cairn.ledger/entry/v1":
        raise ValueError("the leaf is not cairn.ledger/entry/v1")
    fields, at = {}, 1
    for name in LEAF_LINES:
        if at < len(lines) and lines[at].startswith(name + " "):
            fields[name] = lines[at][len(name) + 1:]
            at += 1
        elif name not in OPTIONAL:
            raise ValueError("the leaf has no %s line" % name)
    if at != len(lines):
        raise ValueError("the leaf has an unexpected line %r" % lines[at])
    if ("prev" in fields) != ("change" in fields):
        raise ValueError("the leaf has prev without change, or change without prev")
    for name in ("index", "time") + (("prev",) if fields.get("prev") != "none" else ()):
        if name in fields and not is_number(fields[name]):
            raise ValueError("the leaf's %s is not a number: %r" % (name, fields[name]))
    for name in ("key", "payload"):
        v = fields.get(name, "sha256:" + "0" * 64)
        if not (v.startswith("sha256:") and len(v) == 71 and all(c in HEX for c in v[7:])):
            raise ValueError("the leaf's %s is not sha256:<64 hex digits>" % name)
    return fields


HEX = set("0123456789abcdef")


def is_number(text):
    """ASCII decimal without leading zeros, as docs/formats.md writes them."""
    return text.isascii() and text.isdigit() and (text == "0" or text[0] != "0")


def verify_bundle(bundle, vkey):
    """Returns the list of findings: (kind, message)."""
    found = []
    if not isinstance(bundle, dict) or bundle.get("format") != "cairn.bundle/v1":
        return [("format", "not a cairn.bundle/v1 document")]
    if not isinstance(bundle.get("checkpoint"), str):
        return [("format", "the bundle has no checkpoint")]
    try:
        origin, size, root = verify_checkpoint(bundle["checkpoint"], vkey)
    except (ValueError, IndexError) as e:
        return [("signature", str(e))]
    leaves = {}
    if not isinstance(bundle.get("entries"), list):
        return [("format", "the bundle's entries are not a list")]
    for e in bundle["entries"]:
        index = e.get("index") if isinstance(e, dict) else None
        try:
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise ValueError("an entry has no index (a number from 0)")
            leaf = b64(e["leaf"], "entry %s's leaf" % index)
            if not isinstance(e["inclusion"], list):
                raise ValueError("entry %s's inclusion is not a list" % index)
            proof = [b64(h, "entry %s's proof hash" % index) for h in e["inclusion"]]
            if any(len(h) != 32 for h in proof):
                raise ValueError("entry %s has a proof hash that is not 32 bytes" % index)
        except KeyError as err:
            found.append(("format", "entry %s has no %s" % (index, err)))
            continue
        except (TypeError, ValueError) as err:
            found.append(("format", str(err)))
            continue
        try:
            fields = parse_leaf(leaf)
            if fields["index"] != str(index) or fields["origin"] != origin:
                raise ValueError("entry %s's leaf names index %s of %s"
                                 % (index, fields["index"], fields["origin"]))
        except (ValueError, UnicodeDecodeError) as err:
            found.append(("leaf", str(err)))
            continue
        if not verify_inclusion(index, size, leaf_hash(leaf), proof, root):
            found.append(("inclusion", "entry %s: the proof does not lead to the root of "
                                       "size %d" % (index, size)))
        try:
            payload = b64(e["payload"], "entry %s's payload" % index)
            if "sha256:" + sha256(payload).hex() != fields["payload"]:
                found.append(("payload", "entry %s: the payload's SHA-256 is not the leaf's"
                                         % index))
        except KeyError:
            found.append(("payload", "entry %s: payload is missing" % index))
        except ValueError as err:
            found.append(("format", str(err)))
        if index in leaves:
            found.append(("duplicate", "entry %s appears twice" % index))
        leaves[index] = fields
    # Every change's entries form one back-linked list from a prev none.
    changes = {}
    for index, f in leaves.items():
        if "change" in f:
            changes.setdefault(f["change"], []).append(index)
    for change, indexes in sorted(changes.items()):
        firsts, named = 0, set()
        for index in indexes:
            prev = leaves[index]["prev"]
            if prev == "none":
                firsts += 1
                continue
            p = int(prev)
            if p not in leaves or p >= index or leaves[p].get("change") != change:
                found.append(("chain", "entry %d of change %s names prev %d, which is not an "
                                       "earlier entry of the change in the bundle"
                                       % (index, change, p)))
            elif p in named:
                found.append(("chain", "change %s forks at entry %d" % (change, p)))
            named.add(p)
        if firsts != 1:
            found.append(("chain", "change %s has %d entries with prev none" % (change, firsts)))
    return found


INTOTO_TYPE = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"


def pae(payload_type, body):
    """DSSE v1 pre-authentication encoding."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def verify_statements(lines, vkey, bundle):
    """Findings for DSSE-wrapped in-toto statements about bundle's entries."""
    found, leaves = [], {e["index"]: b64(e["leaf"], "a leaf") for e in bundle["entries"]}
    pub = vkey[2]
    for n, line in enumerate(lines, 1):
        try:
            env = json.loads(line)
            body = b64(env["payload"], "line %d's payload" % n)
            if env["payloadType"] != INTOTO_TYPE:
                raise ValueError("line %d: payloadType is %r" % (n, env["payloadType"]))
            signed = False
            for sig in env["signatures"]:
                try:
                    pub.verify(b64(sig["sig"], "a signature"), pae(env["payloadType"], body))
                    signed = True
                except InvalidSignature:
                    pass
            if not signed:
                found.append(("signature", "line %d: no signature by the log key verifies" % n))
                continue
            st = json.loads(body)
            if st["_type"] != STATEMENT_V1 or not st["subject"] or not st["predicateType"]:
                raise ValueError("line %d is not an in-toto Statement v1" % n)
            log = st["predicate"]["log"]
            leaf = leaves.get(log["index"])
            name = "%s/entry/%d" % (log["origin"], log["index"])
            subject = [s for s in st["subject"] if s["name"] == name]
            if leaf is None:
                found.append(("statement", "line %d is about entry %d, not in the bundle"
                                           % (n, log["index"])))
            elif (not subject or subject[0]["digest"].get("sha256") != sha256(leaf).hex()
                  or b64(log["leaf_hash"], "a leaf hash") != leaf_hash(leaf)):
                found.append(("statement", "line %d: its leaf is not entry %d's leaf"
                                           % (n, log["index"])))
        except (KeyError, TypeError, ValueError) as e:
            found.append(("format", "line %d: %s" % (n, e)))
    return found


# Go's golang.org/x/mod/sumdb/note example: the key, the text and its note.
GO_NOTE_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_NOTE_TEXT = ("If you think cryptography is the answer to your problem,\n"
                "then you don't know what your problem is.\n")
GO_NOTE = GO_NOTE_TEXT + ("\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
                          "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


def check_vectors(root_dir):
    """Runs every proof probe and the note example; returns the number of
    disagreements (1 when there are no probes)."""
    bad = n = 0
    if verify_note(GO_NOTE, parse_vkey(GO_NOTE_VKEY)) != GO_NOTE_TEXT:
        bad += 1
        print("disagrees: Go's signed-note example")
    for dirpath, _, files in sorted(os.walk(root_dir)):
        for name in sorted(files):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(dirpath, name)) as f:
                v = json.load(f)
            proof = [base64.b64decode(h) for h in (v["proof"] or [])]
            if "leafIdx" in v:
                ok = verify_inclusion(v["leafIdx"], v["treeSize"],
                                      base64.b64decode(v["leafHash"] or ""), proof,
                                      base64.b64decode(v["root"] or ""))
            else:
                ok = verify_consistency(v["size1"], v["size2"], base64.b64decode(v["root1"] or ""),
                                        base64.b64decode(v["root2"] or ""), proof)
            n += 1
            if ok == v["wantErr"]:
                bad += 1
                print("disagrees: %s (wantErr %s)" % (os.path.join(dirpath, name), v["wantErr"]))
    print("%d proof vectors and 1 note, %d disagree" % (n, bad))
    return bad if n else 1


def check_consistency(old_path, new_path, proof_path, vkey):
    """Prints the finding or OK; returns the exit code."""
    try:
        with open(old_path) as f:
            old = verify_checkpoint(f.read(), vkey)
        with open(new_path) as f:
            new = verify_checkpoint(f.read(), vkey)
    except (ValueError, IndexError) as e:
        print("signature: %s" % e)
        return 1
    with open(proof_path) as f:
        proof = [b64(line, "a proof hash") for line in f.read().split("\n") if line]
    if not verify_consistency(old[1], new[1], old[2], new[2], proof):
        print("consistency: the proof does not show that size %d extends size %d"
              % (new[1], old[1]))
        return 1
    print("OK: the log of size %d extends the log of size %d" % (new[1], old[1]))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--vectors":
        return 1 if check_vectors(argv[2]) else 0
    if len(argv) == 7 and argv[1] == "--consistency" and argv[5] == "--vkey":
        try:
            vkey = parse_vkey(argv[6])
        except ValueError as e:
            print("vkey: %s" % e, file=sys.stderr)
            return 2
        return check_consistency(argv[2], argv[3], argv[4], vkey)
    intoto = None
    if len(argv) == 7 and argv[1] == "--intoto" and argv[3] == "--vkey" and argv[5] == "--bundle":
        intoto, argv = argv[2], [argv[0], argv[6], "--vkey", argv[4]]
    if len(argv) != 4 or argv[2] != "--vkey":
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        try:
            bundle = json.loads(f.read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            print("format: the bundle is not JSON: %s" % e)
            return 1
    try:
        vkey = parse_vkey(argv[3])
    except ValueError as e:
        print("vkey: %s" % e, file=sys.stderr)
        return 2
    found = verify_bundle(bundle, vkey)
    if not found and intoto is not None:
        with open(intoto, "rb") as f:
            lines = [line for line in f.read().decode("utf-8", "replace").split("\n") if line]
        found = verify_statements(lines, vkey, bundle)
        what = "%d statements about entries of a verified bundle" % len(lines)
    elif not found:
        what = "%d entries" % len(bundle["entries"])
    for kind, message in found:
        print("%s: %s" % (kind, message))
    if found:
        return 1
    print("OK: " + what)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
