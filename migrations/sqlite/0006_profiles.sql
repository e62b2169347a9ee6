-- At most one profile per user is open (drafted = 0 or submitted = 1). Barong checked this in
-- the model only, so two concurrent creates could both pass; the index makes it hold.
CREATE UNIQUE INDEX index_profiles_one_open_per_user ON profiles (user_id) WHERE state IN (0, 1);
