-- scale: the Postgres backends connected to the benchmark's database (their
-- process IDs), whose CPU time the row reads.
SELECT pid FROM pg_stat_activity WHERE datname = current_database()
