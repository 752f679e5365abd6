-- What a restore's validation learnt from the archive (conflicting keys and groups, custom groups),
-- with the destination app's change generation taken before it looked (migration 0007). A
-- revalidation (consent) with the destination unchanged since then reuses it instead of reading and
-- decompressing every part of the backup again. JSON; NULL until the first validation.
ALTER TABLE restores ADD COLUMN validation_facts TEXT;
