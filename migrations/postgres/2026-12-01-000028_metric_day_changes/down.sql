DROP TABLE metric_day_changes;
