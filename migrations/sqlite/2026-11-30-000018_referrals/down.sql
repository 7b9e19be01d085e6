DROP TABLE affiliate_orders;
DROP TABLE affiliates;
DROP TABLE referrals;
DROP TABLE referral_claims;
DROP TABLE referral_clicks;
DROP INDEX members_referral_code;
