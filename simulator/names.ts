/** Word lists for generated people, teams and services. Invented, with no real customer data. */

export const FIRST_NAMES = [
  'Ada', 'Bruno', 'Chen', 'Dalia', 'Emeka', 'Fatima', 'Goran', 'Hana', 'Ines', 'Jonas',
  'Kiri', 'Lena', 'Mateo', 'Nadia', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tariq',
  'Uma', 'Viktor', 'Wen', 'Ximena', 'Yusuf', 'Zofia', 'Aiko', 'Bashir', 'Camila', 'Dmitri',
  'Elif', 'Farid', 'Greta', 'Hugo', 'Ivana', 'Jamal', 'Kamala', 'Luca', 'Mira', 'Nils',
] as const;

export const LAST_NAMES = [
  'Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Novak', 'Haddad', 'Silva', 'Kowalski', 'Nguyen', 'Fischer',
  'Rossi', 'Petrov', 'Mensah', 'Garcia', 'Larsen', 'Kaur', 'Dubois', 'Yilmaz', 'Schmidt', 'Ito',
  'Costa', 'Andersen', 'Brennan', 'Castillo', 'Demir', 'Eriksen', 'Farouk', 'Gallo', 'Horvat', 'Iqbal',
] as const;

export const JOB_TITLES = [
  'Site Reliability Engineer', 'Software Engineer', 'Engineering Manager', 'Support Engineer',
  'Platform Engineer', 'Product Manager', 'Director of Engineering', 'Customer Success Manager',
] as const;

export const USER_COLORS = ['green', 'purple', 'red', 'teal', 'orange', 'brown', 'cayenne', 'turquoise'] as const;

export const TIME_ZONES = ['Etc/UTC', 'Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Sydney'] as const;

export const TEAM_NAMES = ['Platform', 'Payments', 'Mobile', 'Data', 'Customer Support', 'Security'] as const;

export const SERVICE_NAMES = [
  'Checkout API', 'Payment Gateway', 'Search Index', 'Mobile Backend', 'Data Pipeline',
  'Auth Service', 'Notification Worker', 'Support Portal', 'Billing Jobs', 'Edge Proxy',
] as const;

export const INCIDENT_TITLES = [
  'High error rate on {service}', 'Latency above SLO on {service}', '{service} health check failing',
  'Disk almost full on {service} host', 'Queue backlog growing in {service}', '{service} returns 5xx to customers',
  'Certificate expires soon for {service}', 'Memory pressure on {service}',
] as const;

export const NOTES = [
  'Rolled back the last deploy.', 'Restarted the stuck worker.', 'Scaled out by two instances.',
  'Upstream provider confirmed an outage.', 'False alarm: the monitor threshold was too low.',
] as const;
