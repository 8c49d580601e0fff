"""Sign-in, tokens, the signed-in principal and what each role may do."""
