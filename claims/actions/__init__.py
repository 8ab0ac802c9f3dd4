"""Every write that matters to a claim, one module per area.

Each action locks the claim row, checks who is acting through claims.core, refuses
anything the rules do not allow with a `ClaimError` that says why, and writes the
change, its audit event and the claimant's status update in one transaction. Views,
forms, admin actions and tasks call these; nothing else sets a stage.
"""
