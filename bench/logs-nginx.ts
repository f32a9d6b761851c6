/**
 * Deterministic generator of realistic nginx "combined" access-log lines for the logs benchmark:
 * a client population with skewed popularity, a site map with ids and query strings, realistic
 * status and size distributions, a few dozen real user agents and referers.
 */
import { prng } from '../src/client/prng.ts';

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.97',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
  'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  'curl/7.88.1',
  'curl/8.4.0',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'Prometheus/2.42.0',
  'kube-probe/1.28',
  'Wget/1.21.3',
  'okhttp/4.12.0',
  'Apache-HttpClient/4.5.14 (Java/17.0.9)',
  'Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0',
  'Slack-ImgProxy (+https://api.slack.com/robots)',
  'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  'Twitterbot/1.0',
  'UptimeRobot/2.0',
];

const REFERERS = [
  '-',
  '-',
  '-',
  '-',
  'https://www.google.com/',
  'https://www.bing.com/',
  'https://duckduckgo.com/',
  'https://t.co/',
  'https://news.ycombinator.com/',
];

const PAGE_PATHS = [
  '/',
  '/about',
  '/pricing',
  '/blog',
  '/blog/2023/11/observability-for-small-teams',
  '/blog/2023/10/why-we-moved-to-loki',
  '/docs/getting-started',
  '/docs/api/authentication',
  '/docs/api/rate-limits',
  '/contact',
  '/login',
  '/signup',
  '/dashboard',
  '/account/settings',
];

const ASSET_PATHS = [
  '/static/css/main.4f3a2b1c.css',
  '/static/js/main.8d7e6f5a.js',
  '/static/js/vendor.1a2b3c4d.js',
  '/static/img/logo.svg',
  '/static/img/hero.webp',
  '/favicon.ico',
  '/robots.txt',
  '/sitemap.xml',
  '/static/fonts/inter-var.woff2',
];

const API_TEMPLATES: ((r: () => number) => string)[] = [
  (r) => `/api/v1/users/${Math.floor(r() * 50_000)}`,
  (r) => `/api/v1/orders?page=${1 + Math.floor(r() * 20)}&per_page=50`,
  (r) => `/api/v1/orders/${100_000 + Math.floor(r() * 900_000)}`,
  (r) => `/api/v1/products/${Math.floor(r() * 2_000)}/reviews`,
  (r) =>
    `/api/v1/search?q=${['shoes', 'laptop', 'coffee', 'desk', 'lamp', 'phone', 'cable'][Math.floor(r() * 7)]}`,
  () => '/api/v1/health',
  () => '/api/v1/session',
  (r) => `/api/v2/metrics/${['cpu', 'memory', 'disk', 'network'][Math.floor(r() * 4)]}?range=1h`,
];

const STATUSES: [number, number][] = [
  [200, 0.78],
  [304, 0.07],
  [301, 0.02],
  [302, 0.02],
  [404, 0.06],
  [401, 0.015],
  [403, 0.005],
  [499, 0.005],
  [500, 0.01],
  [502, 0.003],
  [503, 0.002],
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

let cachedSecond = -1;
let cachedTime = '';

/** nginx $time_local, in UTC (memoized per second: lines come in time order). */
export function nginxTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === cachedSecond) return cachedTime;
  cachedSecond = second;
  cachedTime = formatNginxTime(ms);
  return cachedTime;
}

function formatNginxTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(
    d.getUTCMinutes(),
  )}:${pad2(d.getUTCSeconds())} +0000`;
}

export interface NginxGenerator {
  /** One combined-format line for a request at `ms`. */
  line(ms: number): string;
}

export function nginxGenerator(seed: number): NginxGenerator {
  const r = prng(seed);
  // A client population: a few heavy hitters (monitors, crawlers, office NAT) and a long tail.
  const clients: { ip: string; ua: string }[] = [];
  for (let i = 0; i < 3000; i++) {
    const ip =
      r() < 0.15
        ? `10.${Math.floor(r() * 4)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`
        : `${1 + Math.floor(r() * 223)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
    clients.push({ ip, ua: USER_AGENTS[Math.floor(Math.pow(r(), 2) * USER_AGENTS.length)]! });
  }
  const pickClient = () => clients[Math.floor(Math.pow(r(), 3) * clients.length)]!;
  const pickStatus = () => {
    let x = r();
    for (const [status, p] of STATUSES) {
      if (x < p) return status;
      x -= p;
    }
    return 200;
  };
  return {
    line(ms: number): string {
      const client = pickClient();
      const kind = r();
      let method = 'GET';
      let path: string;
      if (kind < 0.45) path = ASSET_PATHS[Math.floor(r() * ASSET_PATHS.length)]!;
      else if (kind < 0.7) path = PAGE_PATHS[Math.floor(r() * PAGE_PATHS.length)]!;
      else {
        path = API_TEMPLATES[Math.floor(r() * API_TEMPLATES.length)]!(r);
        const m = r();
        method = m < 0.75 ? 'GET' : m < 0.9 ? 'POST' : m < 0.97 ? 'PUT' : 'DELETE';
      }
      const status = pickStatus();
      const size =
        status === 304 || status === 301 || status === 302
          ? 0
          : status >= 400
            ? 150 + Math.floor(r() * 400)
            : Math.floor(Math.exp(6 + r() * 6));
      const referer =
        kind < 0.45
          ? `https://www.example.com${PAGE_PATHS[Math.floor(r() * PAGE_PATHS.length)]}`
          : REFERERS[Math.floor(r() * REFERERS.length)]!;
      const proto = r() < 0.7 ? 'HTTP/2.0' : 'HTTP/1.1';
      return `${client.ip} - - [${nginxTime(ms)}] "${method} ${path} ${proto}" ${status} ${size} "${referer}" "${client.ua}"`;
    },
  };
}
