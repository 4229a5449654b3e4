"""Reports built from what the store and a reconciliation hold, for people: the
reconciliation XLSX and PDF (核对结果), the station letter (差异通知函) and the monthly
summary XLSX (月报汇总).  `render/` prints forms only; these use its fonts and cells."""
