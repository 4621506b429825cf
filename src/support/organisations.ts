/**
 * Which welfare organisation is responsible for which wijk (WIJK_ORGANISATIONS): it
 * gets the reminder when an initiative in its wijk waits in the support queue. Pure;
 * used by src/config.ts, the support activities and the API.
 */
import { WHOLE_MUNICIPALITY } from '../domain/application.ts';

/** `*` in WIJK_ORGANISATIONS: every wijk (and Gemeentebreed) not named. */
export const OTHER_WIJKEN = '*';

/**
 * The Leidschendam-Voorburg default: SenW in the three Voorburg wijken, Woej everywhere
 * else (and Gemeentebreed). Only the Voorburg wijken that WIJKEN has are named.
 */
export function defaultWijkOrganisations(wijken: readonly string[]): string {
  const senw = ['Voorburg-Midden', 'Voorburg-Noord', 'Voorburg-West'].filter((w) => wijken.includes(w));
  return [...senw.map((w) => `${w}=SenW`), `${OTHER_WIJKEN}=Woej`].join(',');
}

export interface WijkOrganisations {
  /** Every configured wijk and Gemeentebreed → its organisation. */
  byWijk: Record<string, string>;
  /** The organisations, in the order they first appear. */
  organisations: string[];
}

/**
 * Parses `Wijk=Organisation,…` (with `*=Organisation` for the rest). Every wijk and
 * Gemeentebreed must end up with an organisation; a name that is not a wijk is refused.
 * Returns the problems instead of throwing, so the config can name them all at once.
 */
export function parseWijkOrganisations(raw: string, wijken: readonly string[]): { value?: WijkOrganisations; problems: string[] } {
  const known = [...wijken, WHOLE_MUNICIPALITY];
  const named = new Map<string, string>();
  let rest: string | undefined;
  const problems: string[] = [];
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const wijk = eq > 0 ? part.slice(0, eq).trim() : '';
    const organisation = eq > 0 ? part.slice(eq + 1).trim() : '';
    if (!wijk || !organisation) {
      problems.push(`"${part}" is not Wijk=Organisation`);
      continue;
    }
    if (wijk === OTHER_WIJKEN) rest = organisation;
    else if (!known.includes(wijk)) problems.push(`"${wijk}" is not a wijk (WIJKEN, or ${WHOLE_MUNICIPALITY})`);
    else if (named.has(wijk)) problems.push(`"${wijk}" is named twice`);
    else named.set(wijk, organisation);
  }
  const byWijk: Record<string, string> = {};
  for (const wijk of known) {
    const organisation = named.get(wijk) ?? rest;
    if (organisation) byWijk[wijk] = organisation;
    else problems.push(`no organisation for "${wijk}" (name it, or add *=Organisation)`);
  }
  if (problems.length) return { problems };
  return { value: { byWijk, organisations: [...new Set(known.map((w) => byWijk[w]!))] }, problems };
}

/**
 * The organisation responsible for an initiative: that of the first wijk it names
 * (the applicant lists the main one first); an unknown wijk falls back to Gemeentebreed's.
 */
export function organisationFor(map: WijkOrganisations, wijken: readonly string[]): string {
  for (const w of wijken) {
    const organisation = map.byWijk[w];
    if (organisation) return organisation;
  }
  return map.byWijk[WHOLE_MUNICIPALITY]!;
}
