DROP TABLE rollup_backlog;
