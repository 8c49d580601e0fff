"""The demo community: a deterministic data set shaped like the seeds' 汉唐街北社区."""
