-- Phone codes, which Barong let anyone guess and resend without limit: when the current code was last sent and how
-- many codes went out in the current hour, for the resend limit.
ALTER TABLE phones ADD COLUMN code_sent_at BIGINT;
ALTER TABLE phones ADD COLUMN sends_window_started_at BIGINT;
ALTER TABLE phones ADD COLUMN sends_in_window BIGINT NOT NULL DEFAULT 0;
-- A user holds a number once, and a number is verified for one user at most: constraints, so
-- two concurrent requests cannot both pass a read-then-insert check.
CREATE UNIQUE INDEX index_phones_on_user_id_and_number_index ON phones (user_id, number_index);
CREATE UNIQUE INDEX index_phones_verified_number ON phones (number_index) WHERE validated_at IS NOT NULL;
