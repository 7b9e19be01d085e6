DROP TABLE fulfilments;
