// Preloaded with `node --import` into a process whose peak memory a test measures: prints
// the peak resident set (KiB) on stderr as the process exits.
process.on('exit', () => process.stderr.write(`\npeak-rss-kib ${process.resourceUsage().maxRSS}\n`));
