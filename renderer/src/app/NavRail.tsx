import Box from '@mui/material/Box';
import ButtonBase from '@mui/material/ButtonBase';
import Typography from '@mui/material/Typography';
import { useApp } from '../stores/hooks.js';
import { NAV_ITEMS } from './nav-items.js';

/** Width of the navigation rail in px. */
export const RAIL_WIDTH = 92;

/** The left navigation rail (Calendar, Guests, Restore, Jobs, Repository, Settings). */
export function NavRail() {
  const route = useApp((s) => s.route);
  const navigate = useApp((s) => s.navigate);
  return (
    <Box
      component="nav"
      aria-label="Main"
      sx={{
        width: RAIL_WIDTH,
        flexShrink: 0,
        borderRight: 1,
        borderColor: 'divider',
        bgcolor: 'background.paper',
        display: 'flex',
        flexDirection: 'column',
        gap: 0.5,
        pt: 1,
      }}
    >
      {NAV_ITEMS.map((item) => {
        const active = item.route === route;
        return (
          <ButtonBase
            key={item.route}
            component="a"
            href={`#/${item.route}`}
            aria-current={active ? 'page' : undefined}
            data-testid={`nav-${item.route}`}
            onClick={(e: React.MouseEvent) => {
              e.preventDefault();
              navigate(item.route);
            }}
            sx={{
              flexDirection: 'column',
              py: 1,
              mx: 1,
              borderRadius: 2,
              color: active ? 'primary.main' : 'text.secondary',
              bgcolor: active ? 'action.selected' : 'transparent',
              '&:hover': { bgcolor: 'action.hover' },
              '&.Mui-focusVisible': { outline: 2, outlineColor: 'primary.main', outlineStyle: 'solid' },
            }}
          >
            {item.icon}
            <Typography variant="caption" sx={{ fontWeight: active ? 700 : 500, mt: 0.25, color: active ? 'text.primary' : 'text.secondary' }}>
              {item.label}
            </Typography>
          </ButtonBase>
        );
      })}
    </Box>
  );
}
