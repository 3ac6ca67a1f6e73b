"""Templates: the team library of email, slide and image-style templates, their versions and approvals."""
