-- rows_read is how many rows a chunk's range held in its snapshot, where
-- the chunk staged fewer: the database left out the rows the source's
-- filter does not keep. The gate compares it, not rows, with the plan's
-- count, and the executor counts the rows left out from it. NULL (a chunk
-- recorded before this column, or one that staged every row) is rows.
ALTER TABLE staged_chunks ADD COLUMN rows_read bigint CHECK (rows_read >= 0);
