DROP TABLE disputes, webhook_events, outbox, refunds, payments;
