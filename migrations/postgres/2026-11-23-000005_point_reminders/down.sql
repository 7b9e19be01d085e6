DROP TABLE point_reminders;
