-- rows_planned is the row count a stage plan took in the snapshot its chunks
-- read; the gate refuses a side whose chunks hold another count. NULL (a
-- plan recorded before this column) checks nothing.
ALTER TABLE staged_sources ADD COLUMN rows_planned bigint CHECK (rows_planned >= 0);
