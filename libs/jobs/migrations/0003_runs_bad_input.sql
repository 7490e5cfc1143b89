-- bad_input says a failed run failed on its input (the recipe, the data, the
-- source's tables or credentials), which running it again will not mend.
ALTER TABLE runs ADD COLUMN bad_input boolean NOT NULL DEFAULT false;
