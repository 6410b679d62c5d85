# Shared by scripts/up and scripts/test: install what Cairn needs from
# Debian's archive (only what is missing) and build it with CMake.

CAIRN_PACKAGES="build-essential cmake pkg-config git curl libzmq3-dev libczmq-dev
libprotobuf-c-dev protobuf-c-compiler liblmdb-dev lmdb-utils libsodium-dev libcmocka-dev
libmicrohttpd-dev libjansson-dev libcjson-dev libunistring-dev libfyaml-dev
libcurl4-openssl-dev libssl-dev procps tzdata clang libclang-rt-14-dev iproute2
python3 python3-cryptography"

cairn_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

cairn_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "cairn: installing packages needs root; run as root or install sudo" >&2
        return 2
    fi
}

cairn_install_deps() {
    local missing=""
    for p in $CAIRN_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "cairn: installing from Debian:$missing" >&2
    cairn_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        cairn_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# cairn_build DIR [cmake args...]: configure and build into DIR.
cairn_build() {
    local dir="$1"
    shift
    cmake -S "$(cairn_root)" -B "$dir" "$@" >/dev/null &&
        cmake --build "$dir" -j"$(nproc)"
}
