"""Single sign-on: Google, GitHub, Microsoft Entra ID and any OpenID Connect provider (authlib)."""
