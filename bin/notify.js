#!/usr/bin/env node
import('../dist/cli.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
    console.error('crisis-notify is not built yet; run "npm install" (or "npm run build") in its folder first.');
    process.exit(2);
  }
  throw error;
});
