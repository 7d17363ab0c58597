"""`newsbot demo`: real feeds served on 127.0.0.1 from labelled news items, two poll cycles."""
