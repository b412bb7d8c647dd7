"""HL7 v2 over MLLP: the listener, stored messages, the review queue and the outbound sender."""
