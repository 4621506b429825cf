/**
 * The pages' paths: fixed, because e-mails link to them and acceptance tests open them
 * (ARCHITECTURE.md: add, don't rename). Every link in an e-mail opens one of these.
 */
export const staffPaths = {
  applications: '/beheer/aanvragen',
  meetings: '/beheer/vergaderingen',
  support: '/beheer/ondersteuning',
  payouts: '/beheer/uitbetalingen',
  budget: '/beheer/budget',
  panel: '/beheer/panel',
  audit: '/beheer/logboek',
  monitoring: '/beheer/monitoring',
} as const;

export const pagePaths = {
  home: '/',
  apply: '/aanvragen',
  /** The applicant's status page; the e-mail's link adds `?token=` (moved into a cookie on the first visit). */
  status: (applicationId: string) => `/aanvraag/${applicationId}`,
  budget: (year: number) => `/budget/${year}`,
  login: '/inloggen',
  application: (applicationId: string) => `${staffPaths.applications}/${applicationId}`,
  meeting: (meetingId: string) => `${staffPaths.meetings}/${meetingId}`,
  supportCase: (applicationId: string) => `${staffPaths.support}/${applicationId}`,
};

/** The page links the e-mails carry, absolute (PUBLIC_BASE_URL). */
export function emailLinks(publicBaseUrl: string) {
  return {
    status: (applicationId: string, token: string) => `${publicBaseUrl}${pagePaths.status(applicationId)}?token=${encodeURIComponent(token)}`,
    meeting: (meetingId: string) => `${publicBaseUrl}${pagePaths.meeting(meetingId)}`,
    supportCase: (applicationId: string) => `${publicBaseUrl}${pagePaths.supportCase(applicationId)}`,
    application: (applicationId: string) => `${publicBaseUrl}${pagePaths.application(applicationId)}`,
    login: `${publicBaseUrl}${pagePaths.login}`,
  };
}
