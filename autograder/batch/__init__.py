"""What a TA runs: intake of submission folders, the batch run on lanes, machine sizing."""
