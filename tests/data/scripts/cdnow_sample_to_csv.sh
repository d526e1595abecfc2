#!/usr/bin/env sh
# Turn the papers' CDNOW 1/10 sample (whitespace columns: master id, sample id,
# date YYYYMMDD, CDs, dollars) into the CSV the tests read. The summary files
# are keyed by the sample id, so that is the user id.
set -eu
here=$(dirname "$0")
tr -d '\r' < "$here/../CDNOW_sample.txt" | awk 'BEGIN { print "user_id,ts,amount,quantity" }
     NF == 5 { printf "%d,%s-%s-%s,%s,%s\n", $2, substr($3,1,4), substr($3,5,2), substr($3,7,2), $5, $4 }' \
    > "$here/../cdnow_sample_transactions.csv"
