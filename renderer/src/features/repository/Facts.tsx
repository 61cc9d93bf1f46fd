import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';

/** A two-column list of labelled facts (a `<dl>`). */
export function Facts({ facts, testId }: { facts: [string, string][]; testId: string }) {
  return (
    <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 3, rowGap: 0.5, m: 0 }} data-testid={testId}>
      {facts.map(([k, v]) => (
        <Box key={k} sx={{ display: 'contents' }}>
          <Typography component="dt" color="text.secondary">
            {k}
          </Typography>
          <Typography component="dd" sx={{ m: 0, wordBreak: 'break-all' }}>
            {v}
          </Typography>
        </Box>
      ))}
    </Box>
  );
}
