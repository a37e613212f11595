"""How reports are shown: the console table, the final-grade breakdown, the HTML report.
Views read reports and gradebooks; they never grade."""
