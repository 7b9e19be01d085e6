-- Which products belong to the collections the shop's earning rules name. Order payloads do not
-- carry collections, so a job copies them from the platform's API.
CREATE TABLE product_collections (
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    synced_at TIMESTAMP NOT NULL,
    PRIMARY KEY (shop_id, product_id, collection_id)
);
CREATE INDEX product_collections_collection ON product_collections (shop_id, collection_id);
