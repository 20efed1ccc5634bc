"""Discord glue: slash commands, buttons, modals. Cogs translate; services in bot/ decide."""
