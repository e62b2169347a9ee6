-- At most one active signing key. Daemons starting together on a fresh database could each store
-- a first key (the insert checked for an active key and inserted in one statement, which does not
-- serialise concurrent inserts); keep the newest active key of such a race, demote the others
-- (they keep verifying as `previous`), and let the index refuse any later race.
UPDATE signing_keys SET state = 'previous'
WHERE state = 'active'
  AND kid <> (SELECT kid FROM signing_keys WHERE state = 'active' ORDER BY created_at DESC, kid LIMIT 1);

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
