DROP TABLE refunds;
ALTER TABLE shops DROP COLUMN reconciled_until;
