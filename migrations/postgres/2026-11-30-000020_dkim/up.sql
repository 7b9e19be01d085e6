-- DKIM signing of the shop's mail (issue 13): the signing domain (`d=`), the selector (`s=`) and
-- the RSA private key as PKCS#8 PEM, sealed like the access token (bound to the shop and field;
-- see src/crypto.rs). All three are set together or not at all.
ALTER TABLE shops ADD COLUMN dkim_domain TEXT;
ALTER TABLE shops ADD COLUMN dkim_selector TEXT;
ALTER TABLE shops ADD COLUMN dkim_private_key_enc TEXT;
