R
CHG-1audit"dana