/** Postal addresses as printed on a letter and listed in the development outbox. */
import type { PostalAddress } from '../../contract/channels';

/** Countries that write `City, REGION POSTCODE` on one line. */
const cityRegionPostcode = new Set(['US', 'CA', 'AU']);
/** Countries that put the postcode on a line of its own after the town. */
const postcodeOwnLine = new Set(['GB', 'IE']);

const countryNames = new Intl.DisplayNames(['en'], { type: 'region' });

/** True when `address` has everything a letter needs: name, a street line, city, postal code, country. */
export function isCompletePostalAddress(address: PostalAddress | null | undefined): address is PostalAddress {
  if (!address) return false;
  const filled = (value: unknown) => typeof value === 'string' && value.trim() !== '';
  return (
    filled(address.name) &&
    Array.isArray(address.lines) &&
    address.lines.some(filled) &&
    filled(address.city) &&
    filled(address.postalCode) &&
    filled(address.country)
  );
}

/** The address block, line by line: name, street lines, the city line in the country's order, the country. */
export function postalAddressLines(address: PostalAddress): string[] {
  const country = address.country.trim().toUpperCase();
  const city = address.city.trim();
  const region = address.region?.trim();
  const postalCode = address.postalCode.trim();
  const place = cityRegionPostcode.has(country)
    ? [`${city}${region ? `, ${region}` : ''} ${postalCode}`]
    : postcodeOwnLine.has(country)
      ? [city, ...(region ? [region] : []), postalCode]
      : [`${postalCode} ${city}`, ...(region ? [region] : [])];
  let countryName = country;
  try {
    countryName = (countryNames.of(country) ?? country).toUpperCase();
  } catch {
    // Not an ISO 3166-1 code: print it as given.
  }
  return [address.name.trim(), ...address.lines.map((line) => line.trim()).filter(Boolean), ...place, countryName];
}

/** The address on one line, e.g. `Ada Lovelace, 12 Main St, Springfield, IL 62701, UNITED STATES`. */
export function formatPostalAddress(address: PostalAddress): string {
  return postalAddressLines(address).join(', ');
}
