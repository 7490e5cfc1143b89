"""Saves a bench book's CSV file as an Excel workbook, as a spreadsheet
export would: dates and amounts as typed cells (columns named *date and
*amount), the rest as text, on one sheet named Data.

    pip install openpyxl==3.1.5
    python3 bench/csv_to_xlsx.py bench/data/100000/invoices.csv invoices.xlsx
"""

import csv
import datetime as dt
import sys

from openpyxl import Workbook

src, dst = sys.argv[1], sys.argv[2]
wb = Workbook(write_only=True)
ws = wb.create_sheet("Data")
with open(src, newline="") as f:
    rows = csv.reader(f)
    header = next(rows)
    ws.append(header)
    for row in rows:
        cells = []
        for name, v in zip(header, row):
            if v == "":
                cells.append(None)
            elif name.endswith("date"):
                cells.append(dt.date.fromisoformat(v))
            elif name.endswith("amount"):
                cells.append(float(v))
            else:
                cells.append(v)
        ws.append(cells)
wb.save(dst)
