R
CHG-1REL-1audit"dana