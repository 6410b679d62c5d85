Z
CHG-1"dana