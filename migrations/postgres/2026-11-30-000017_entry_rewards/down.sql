DROP TABLE entry_rewards;
