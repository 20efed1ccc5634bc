"""Discord glue: slash commands, buttons and modals. Each cog translates; services in bot/ decide."""
