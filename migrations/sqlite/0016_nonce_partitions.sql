-- PostgreSQL partitions its nonces by minute (the load of several daemons); one daemon on a
-- SQLite file keeps its nonces in memory and this table as it is.
SELECT 1;
