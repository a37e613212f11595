"""What course staff compute: the rubric, late policy, exam CSV, the grade rule, final grades."""
