ALTER TABLE customer_facts DROP COLUMN win_back_lapse_on;
DROP TABLE win_back_entries;
