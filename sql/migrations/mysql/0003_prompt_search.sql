-- Migration 0003: search by prompt words (CONTRACT.md §6 "Search"), an InnoDB FULLTEXT
-- index queried in boolean mode ('+fox* +red*'). Building it indexes every existing row;
-- InnoDB keeps it in step with every insert and delete from then on. Words shorter than
-- innodb_ft_min_token_size (3 by default) and InnoDB's stop words are not indexed: the
-- service drops them from queries too (service/search.py).
ALTER TABLE images ADD FULLTEXT INDEX ft_images_prompt (prompt);
