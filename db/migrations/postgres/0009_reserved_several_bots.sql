-- Reserved for migration 0009 of branch `multibot` (several bots), so that 0010 (the digest
-- totals) follows a contiguous numbering on this branch alone. Delete this file when that
-- branch is merged; it changes nothing.
SELECT 1;
