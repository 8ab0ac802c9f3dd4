"""Every read that is more than a one-liner, one module per area: the queues and what
is overdue (queues), the claim page (claim_page), money against the fund (funds), the
scheme dashboard (dashboard), partial acceptance's figures (partial), pro-rata
(prorata), letters (letters) and what staff pages keep in the cache (caching).

Everything here reads; writes go through `claims.actions`. Each function runs a fixed
number of queries whatever the number of claims, heads of loss or events, and each
filter is one an index answers (see Claim.Meta.indexes), so the pages stay quick with
a million claims.
"""
