// Interface text: French (the public's language, and the page's own) with an English toggle. Static
// elements carry data-i18n keys; dynamic text calls t(). Data (territory and commune names) is never
// translated.

const FR = {
  skip: 'Aller au panneau',
  title: "Territoires d'industrie",
  'search.label': 'Rechercher un territoire, une intercommunalité, une commune ou un SIREN',
  'search.placeholder': 'Territoire, commune, EPCI, SIREN…',
  'search.none': 'Aucun résultat',
  'search.edition': 'édition {edition}',
  edition: 'Édition',
  'map.label': 'Carte des territoires',
  'insets.label': 'Aller à',
  'area.metro': 'Métropole',
  'area.973': 'Guyane',
  'panel.label': 'Panneau',
  close: 'Fermer',
  'site.title': 'Vérifier un site',
  'site.hint':
    "Cliquez sur la carte, ou saisissez des coordonnées en degrés décimaux (longitude, latitude ; l'ordre latitude, longitude est reconnu).",
  'site.coords': 'Coordonnées',
  'site.check': 'Vérifier',
  'site.centre': 'Vérifier le centre de la carte',
  'site.checking': 'Vérification en cours…',
  'site.point': 'Site : {lat}, {lon}',
  'site.swapped': '(lu comme latitude, longitude)',
  'site.in': 'Dans le territoire',
  'site.via': 'par son membre {kind} {name} ({code})',
  'site.out': "Hors des territoires de l'édition {edition}.",
  'site.nearest': 'Le plus proche : {name}, à {distance}.',
  'site.noneEdition': "Aucun territoire dans l'édition {edition}.",
  'site.units': 'Commune : {commune} · intercommunalité : {epci}',
  'site.nounit': "Ce point n'est dans aucune commune (mer ou étranger).",
  'site.epciOnly': 'Intercommunalité : {epci}',
  'site.fromTiles': 'Réponse calculée dans le navigateur à partir des tuiles de la carte (zoom 12) : précise à quelques mètres près.',
  'site.others': 'Autres éditions',
  'site.otherIn': '{edition} : {name}',
  'site.otherOut': '{edition} : aucun (le plus proche : {name}, {distance})',
  'site.open': 'Voir la fiche du territoire',
  'coords.count': 'Saisissez deux nombres : longitude et latitude (par exemple 3.3282, 49.3836).',
  'coords.range': 'Coordonnées hors limites : la longitude va de -180 à 180, la latitude de -90 à 90.',
  'batch.title': 'Vérifier un fichier de sites',
  'batch.hint':
    'Un fichier CSV, XLSX ou Parquet avec des colonnes de coordonnées (lon et lat, x et y) ou un code commune, SIREN ou code postal.',
  'batch.pick': 'Choisir un fichier',
  'batch.drop': 'ou déposez-le ici',
  'batch.reading': 'Lecture de {name}…',
  'batch.upload': 'Envoi : {percent} %',
  'batch.processing': 'Traitement de {rows} lignes par le serveur…',
  'batch.download.progress': 'Réception des résultats…',
  'batch.summary':
    '{file} : {rows} sites ; {inside} dans un territoire de l’édition {edition}, {outside} hors territoire, {errors} en erreur.',
  'batch.download': 'Télécharger le fichier enrichi ({format})',
  'batch.download.preparing': 'Préparation du fichier {format}…',
  'batch.inspecting': 'Lecture des colonnes de {name}…',
  'batch.columns.title': 'Colonnes lues',
  'batch.columns.run': 'Vérifier avec ces colonnes',
  'batch.columns.none': '(aucune)',
  'batch.columns.role.lon': 'Longitude (WGS84)',
  'batch.columns.role.lat': 'Latitude (WGS84)',
  'batch.columns.role.x': 'X (projeté)',
  'batch.columns.role.y': 'Y (projeté)',
  'batch.columns.role.epsg': 'Code EPSG',
  'batch.columns.role.commune_code': 'Code commune INSEE',
  'batch.columns.role.siren': 'SIREN',
  'batch.columns.role.postal_code': 'Code postal',
  'batch.columns.found': '{format} de {columns} colonnes : les sites sont situés par {by}.',
  'batch.columns.by.point': 'leurs coordonnées',
  'batch.columns.by.geometry': 'leur géométrie ({column})',
  'batch.columns.by.code': 'un code',
  'batch.columns.sure': 'Les colonnes ont été reconnues ; changez-les ci-dessous si besoin.',
  'batch.columns.unsure': 'Vérifiez les colonnes ci-dessous, puis lancez la vérification.',
  'batch.columns.doubt.no_location': 'Aucune colonne ne permet de situer les sites : choisissez les colonnes de coordonnées ou de code.',
  'batch.columns.doubt.several': 'Plusieurs colonnes peuvent servir de {role} ({columns}) : « {read} » est lue.',
  'batch.columns.doubt.half_pair': 'Une colonne {role} mais pas de colonne {missing} : choisissez-la.',
  'batch.columns.doubt.both_pairs': 'Le fichier a des colonnes x/y et lon/lat : x/y sont lues d’abord, lon/lat quand x/y sont vides.',
  'batch.more': 'Seules les {shown} premières lignes sont affichées ; le fichier téléchargé les contient toutes ({rows}).',
  'batch.noCoords':
    'Colonnes de coordonnées introuvables dans la réponse : les sites ne sont pas placés sur la carte.',
  'batch.encoding': 'Fichier lu en {encoding} et envoyé en UTF-8.',
  'batch.results': 'Résultats du fichier',
  'batch.show': 'Voir',
  'batch.showLabel': 'Voir la ligne {row} sur la carte',
  'batch.failed': 'Le fichier n’a pas pu être traité : {message}',
  'layers.title': 'Carte et légende',
  'layers.territories': "Territoires d'industrie (couleur selon la région)",
  'layers.territoriesCompare': "Territoires d'industrie de l'édition {edition}",
  'layers.epci': 'Limites des EPCI (à partir du zoom 7)',
  'layers.ept': 'Établissements publics territoriaux (Grand Paris)',
  'layers.places': 'Noms et limites des communes',
  'layers.sites': 'Sites vérifiés',
  'layers.osm': 'Fond OpenStreetMap (nécessite Internet)',
  'layers.regions': 'Couleurs des régions',
  'osm.loading': 'Chargement du fond OpenStreetMap…',
  'osm.failed': 'Fond OpenStreetMap injoignable : la carte reste sans fond.',
  'compare.label': "Comparer avec l'édition",
  'compare.edition': 'Édition comparée',
  'compare.left': 'Seulement en {a} (sorti du programme)',
  'compare.joined': 'Seulement en {b} (entré dans le programme)',
  'compare.both': 'Dans les deux éditions',
  'compare.column': 'En {edition}',
  'compare.joinedMember': 'non (entré)',
  'compare.leftMember': 'non (sorti)',
  'share.title': 'Partager et exporter',
  'share.copy': 'Copier le lien de cette vue',
  'share.copied': 'Lien copié dans le presse-papiers.',
  'share.manual': 'Copiez ce lien :',
  'share.geojson': 'Télécharger les territoires (GeoJSON)',
  'share.print': 'Imprimer',
  sources: "Sources : ANCT (Territoires d'industrie), IGN ADMIN EXPRESS et INSEE COG 2024 — Licence Ouverte 2.0.",
  api: 'API (OpenAPI)',
  'territory.kicker': "Territoire d'industrie · édition {edition}",
  'territory.code': 'Code',
  'territory.region': 'Région',
  'territory.area': 'Superficie',
  'territory.members': 'Membres',
  'territory.communes': 'Communes',
  'territory.population': 'Population municipale ({year})',
  'territory.zoom': 'Zoomer sur le territoire',
  'territory.page': 'Fiche du territoire',
  'territory.loading': 'Chargement du territoire…',
  'member.kind': 'Type',
  'member.name': 'Nom',
  'member.siren': 'SIREN',
  'kind.EPCI': 'EPCI',
  'kind.EPT': 'EPT',
  'kind.COM': 'Commune',
  'kind.territory': 'Territoire',
  'unit.kicker': '{kind} · {code}',
  'unit.population': 'Population',
  'unit.communes': 'Communes',
  'unit.parents': 'Appartient à',
  'unit.territories': "Territoires d'industrie",
  'unit.none': "Dans aucun territoire d'industrie",
  'unit.in': '{edition} : {name}',
  'unit.zoom': 'Zoomer',
  'unit.page': 'Fiche détaillée',
  'editions.count': '{label} ({count} territoires)',
  'editions.dated': '{label}, liste du {date} ({count} territoires)',
  'editions.none': 'Aucune édition chargée sur ce serveur.',
  'error.load': 'Chargement impossible : {message}',
  'error.map': 'Carte : {message}',
  'error.territory.not_found': "aucun territoire « {id} » dans l'édition {edition}.",
  'error.unit.not_found': 'aucune intercommunalité ni commune de code « {code} ».',
  'error.bad_request': "le serveur n'a pas compris la demande.",
  'error.not_found': "le serveur n'a pas trouvé ce qui est demandé.",
  'error.payload_too_large': 'la demande dépasse la taille admise par le serveur.',
  'error.unsupported_media_type': "le serveur n'accepte pas ce type de fichier.",
  'error.timeout': 'le serveur a mis trop de temps à répondre.',
  'error.busy': 'le serveur est occupé : réessayez dans un instant.',
  'error.internal': 'erreur interne du serveur.',
  'error.network': 'le serveur est injoignable.',
  'error.generic': 'erreur inattendue (statut {status}).',
  'error.unexpected': 'erreur inattendue.',
  'error.batch.bad_request':
    "il lui faut une ligne d'en-tête, des colonnes de longitude et de latitude (lon et lat, longitude et latitude ou x et y) et une ligne par site.",
  'error.batch.payload_too_large': 'il est trop grand pour un seul envoi : découpez-le en plusieurs fichiers.',
  'error.batch.unsupported_media_type': "ce n'est pas un fichier CSV, XLSX ou Parquet.",
  'error.map.tiles': "une partie de la carte n'a pas pu être chargée (statut {status}).",
  'error.map.other': "une partie de la carte n'a pas pu être dessinée.",
  'coord.N': '{value}° N',
  'coord.S': '{value}° S',
  'coord.E': '{value}° E',
  'coord.W': '{value}° O',
  'unit.editionPrefix': '{edition} : ',
  'page.title': "Territoires d'industrie — carte",
  'page.description': "Carte des Territoires d'industrie : éditions, intercommunalités membres, vérification d'un site ou d'un fichier de sites.",
  km2: '{value} km²',
  'maplibre.Map.Title': 'Carte des territoires',
  'maplibre.NavigationControl.ZoomIn': 'Zoomer',
  'maplibre.NavigationControl.ZoomOut': 'Dézoomer',
  'maplibre.AttributionControl.ToggleAttribution': 'Afficher ou masquer les sources',
  'maplibre.CooperativeGesturesHandler.WindowsHelpText': 'Ctrl + molette pour zoomer',
  'maplibre.CooperativeGesturesHandler.MacHelpText': '⌘ + molette pour zoomer',
  'maplibre.CooperativeGesturesHandler.MobileHelpText': 'Deux doigts pour déplacer la carte',
  lang: 'English',
  langShort: 'EN',
};

const EN = {
  skip: 'Skip to the panel',
  title: 'Territoires d’industrie (industrial territories)',
  'search.label': 'Search a territory, an intercommunality, a commune or a SIREN',
  'search.placeholder': 'Territory, commune, EPCI, SIREN…',
  'search.none': 'No match',
  'search.edition': 'edition {edition}',
  edition: 'Edition',
  'map.label': 'Map of the territories',
  'insets.label': 'Go to',
  'area.metro': 'Mainland',
  'area.973': 'French Guiana',
  'panel.label': 'Panel',
  close: 'Close',
  'site.title': 'Check a site',
  'site.hint':
    'Click the map, or type coordinates in decimal degrees (longitude, latitude; latitude, longitude order is detected).',
  'site.coords': 'Coordinates',
  'site.check': 'Check',
  'site.centre': 'Check the centre of the map',
  'site.checking': 'Checking…',
  'site.point': 'Site: {lat}, {lon}',
  'site.swapped': '(read as latitude, longitude)',
  'site.in': 'In the territory',
  'site.via': 'through its member {kind} {name} ({code})',
  'site.out': 'Outside the territories of edition {edition}.',
  'site.nearest': 'Nearest: {name}, {distance} away.',
  'site.noneEdition': 'No territory in edition {edition}.',
  'site.units': 'Commune: {commune} · intercommunality: {epci}',
  'site.nounit': 'This point is in no commune (sea or abroad).',
  'site.epciOnly': 'Intercommunality: {epci}',
  'site.fromTiles': 'Answer computed in the browser from the map tiles (zoom 12): precise to a few metres.',
  'site.others': 'Other editions',
  'site.otherIn': '{edition}: {name}',
  'site.otherOut': '{edition}: none (nearest: {name}, {distance})',
  'site.open': 'Open the territory',
  'coords.count': 'Type two numbers: longitude and latitude (e.g. 3.3282, 49.3836).',
  'coords.range': 'Coordinates out of range: longitude is -180 to 180, latitude -90 to 90.',
  'batch.title': 'Check a file of sites',
  'batch.hint': 'A CSV, XLSX or Parquet file with coordinate columns (lon and lat, x and y) or a commune code, SIREN or postal code.',
  'batch.pick': 'Choose a file',
  'batch.drop': 'or drop it here',
  'batch.reading': 'Reading {name}…',
  'batch.upload': 'Uploading: {percent} %',
  'batch.processing': 'The server is checking {rows} rows…',
  'batch.download.progress': 'Receiving the results…',
  'batch.summary':
    '{file}: {rows} sites; {inside} in a territory of edition {edition}, {outside} outside, {errors} with errors.',
  'batch.download': 'Download the enriched file ({format})',
  'batch.download.preparing': 'Preparing the {format} file…',
  'batch.inspecting': 'Reading the columns of {name}…',
  'batch.columns.title': 'Columns read',
  'batch.columns.run': 'Check with these columns',
  'batch.columns.none': '(none)',
  'batch.columns.role.lon': 'Longitude (WGS84)',
  'batch.columns.role.lat': 'Latitude (WGS84)',
  'batch.columns.role.x': 'X (projected)',
  'batch.columns.role.y': 'Y (projected)',
  'batch.columns.role.epsg': 'EPSG code',
  'batch.columns.role.commune_code': 'INSEE commune code',
  'batch.columns.role.siren': 'SIREN',
  'batch.columns.role.postal_code': 'Postal code',
  'batch.columns.found': '{format} with {columns} columns: the sites are located by {by}.',
  'batch.columns.by.point': 'their coordinates',
  'batch.columns.by.geometry': 'their geometry ({column})',
  'batch.columns.by.code': 'a code',
  'batch.columns.sure': 'The columns were recognised; change them below if needed.',
  'batch.columns.unsure': 'Check the columns below, then run the check.',
  'batch.columns.doubt.no_location': 'No column locates the sites: choose the coordinate or code columns.',
  'batch.columns.doubt.several': 'Several columns could be the {role} ({columns}): “{read}” is read.',
  'batch.columns.doubt.half_pair': 'A {role} column but no {missing} column: choose it.',
  'batch.columns.doubt.both_pairs': 'The file has both x/y and lon/lat columns: x/y are read first, lon/lat where x/y are empty.',
  'batch.more': 'Only the first {shown} rows are shown; the download has all of them ({rows}).',
  'batch.noCoords': 'No coordinate columns found in the answer: the sites are not placed on the map.',
  'batch.encoding': 'File read as {encoding} and sent as UTF-8.',
  'batch.results': 'File results',
  'batch.show': 'Show',
  'batch.showLabel': 'Show row {row} on the map',
  'batch.failed': 'The file could not be processed: {message}',
  'layers.title': 'Map and legend',
  'layers.territories': 'Industrial territories (coloured by region)',
  'layers.territoriesCompare': 'Industrial territories of edition {edition}',
  'layers.epci': 'EPCI boundaries (from zoom 7)',
  'layers.ept': 'Territorial public establishments (Greater Paris)',
  'layers.places': 'Commune names and boundaries',
  'layers.sites': 'Checked sites',
  'layers.osm': 'OpenStreetMap base map (needs Internet)',
  'layers.regions': 'Region colours',
  'osm.loading': 'Loading the OpenStreetMap base map…',
  'osm.failed': 'OpenStreetMap cannot be reached: the map stays without a base map.',
  'compare.label': 'Compare with edition',
  'compare.edition': 'Compared edition',
  'compare.left': 'Only in {a} (left the programme)',
  'compare.joined': 'Only in {b} (joined the programme)',
  'compare.both': 'In both editions',
  'compare.column': 'In {edition}',
  'compare.joinedMember': 'no (joined)',
  'compare.leftMember': 'no (left)',
  'share.title': 'Share and export',
  'share.copy': 'Copy the link to this view',
  'share.copied': 'Link copied to the clipboard.',
  'share.manual': 'Copy this link:',
  'share.geojson': 'Download the territories (GeoJSON)',
  'share.print': 'Print',
  sources: 'Sources: ANCT (Territoires d’industrie), IGN ADMIN EXPRESS and INSEE COG 2024 — Licence Ouverte 2.0.',
  api: 'API (OpenAPI)',
  'territory.kicker': 'Industrial territory · edition {edition}',
  'territory.code': 'Code',
  'territory.region': 'Region',
  'territory.area': 'Area',
  'territory.members': 'Members',
  'territory.communes': 'Communes',
  'territory.population': 'Municipal population ({year})',
  'territory.zoom': 'Zoom to the territory',
  'territory.page': 'Territory page',
  'territory.loading': 'Loading the territory…',
  'member.kind': 'Kind',
  'member.name': 'Name',
  'member.siren': 'SIREN',
  'kind.EPCI': 'EPCI',
  'kind.EPT': 'EPT',
  'kind.COM': 'Commune',
  'kind.territory': 'Territory',
  'unit.kicker': '{kind} · {code}',
  'unit.population': 'Population',
  'unit.communes': 'Communes',
  'unit.parents': 'Part of',
  'unit.territories': 'Industrial territories',
  'unit.none': 'In no industrial territory',
  'unit.in': '{edition}: {name}',
  'unit.zoom': 'Zoom',
  'unit.page': 'Detailed page',
  'editions.count': '{label} ({count} territories)',
  'editions.dated': '{label}, list of {date} ({count} territories)',
  'editions.none': 'No edition is loaded on this server.',
  'error.load': 'Could not load: {message}',
  'error.map': 'Map: {message}',
  'error.territory.not_found': 'there is no territory “{id}” in edition {edition}.',
  'error.unit.not_found': 'no EPCI, EPT or commune has the code “{code}”.',
  'error.bad_request': 'the server did not understand the request.',
  'error.not_found': 'the server did not find what was asked for.',
  'error.payload_too_large': 'the request is larger than the server accepts.',
  'error.unsupported_media_type': 'the server does not accept this type of file.',
  'error.timeout': 'the server took too long to answer.',
  'error.busy': 'the server is busy: try again in a moment.',
  'error.internal': 'internal server error.',
  'error.network': 'the server cannot be reached.',
  'error.generic': 'unexpected error (status {status}).',
  'error.unexpected': 'unexpected error.',
  'error.batch.bad_request':
    'it needs a header line, longitude and latitude columns (lon and lat, longitude and latitude, or x and y) and one line per site.',
  'error.batch.payload_too_large': 'it is too large for one upload: split it into several files.',
  'error.batch.unsupported_media_type': 'it is not a CSV, XLSX or Parquet file.',
  'error.map.tiles': 'part of the map could not be loaded (status {status}).',
  'error.map.other': 'part of the map could not be drawn.',
  'coord.N': '{value}° N',
  'coord.S': '{value}° S',
  'coord.E': '{value}° E',
  'coord.W': '{value}° W',
  'unit.editionPrefix': '{edition}: ',
  'page.title': 'Territoires d’industrie (industrial territories) — map',
  'page.description': 'Map of the Territoires d’industrie (industrial territories): editions, member intercommunalities, checking a site or a file of sites.',
  km2: '{value} km²',
  'maplibre.Map.Title': 'Map of the territories',
  'maplibre.NavigationControl.ZoomIn': 'Zoom in',
  'maplibre.NavigationControl.ZoomOut': 'Zoom out',
  'maplibre.AttributionControl.ToggleAttribution': 'Show or hide the sources',
  'maplibre.CooperativeGesturesHandler.WindowsHelpText': 'Ctrl + scroll to zoom',
  'maplibre.CooperativeGesturesHandler.MacHelpText': '⌘ + scroll to zoom',
  'maplibre.CooperativeGesturesHandler.MobileHelpText': 'Use two fingers to move the map',
  lang: 'Français',
  langShort: 'FR',
};

const DICTIONARIES = { fr: FR, en: EN };
let current = 'fr';

export function language() {
  return current;
}

export function setLanguage(lang) {
  current = DICTIONARIES[lang] ? lang : 'fr';
  document.documentElement.lang = current;
}

/** The message keys of a language (both languages must have the same). */
export function messageKeys(lang) {
  return Object.keys(DICTIONARIES[lang] ?? {});
}

/** Whether `key` has a text (in French, the reference dictionary). */
export function hasMessage(key) {
  return key in FR;
}

/** The text of `key` with {placeholders} filled from `params`. */
export function t(key, params = {}) {
  const text = DICTIONARIES[current][key] ?? FR[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Applies the dictionary to the static page (data-i18n, data-i18n-placeholder, data-i18n-aria-label). */
export function applyStatic(root = document) {
  if (root === document) {
    document.title = t('page.title');
    document.querySelector('meta[name="description"]')?.setAttribute('content', t('page.description'));
  }
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
}

/** MapLibre's own control labels, in the page's language (set when the map is made). */
export function mapLocale() {
  const keys = [
    'Map.Title',
    'NavigationControl.ZoomIn',
    'NavigationControl.ZoomOut',
    'AttributionControl.ToggleAttribution',
    'CooperativeGesturesHandler.WindowsHelpText',
    'CooperativeGesturesHandler.MacHelpText',
    'CooperativeGesturesHandler.MobileHelpText',
  ];
  return Object.fromEntries(keys.map((k) => [k, t(`maplibre.${k}`)]));
}

function locale() {
  return current === 'fr' ? 'fr-FR' : 'en-GB';
}

export function formatNumber(value, digits = 0) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(
    value,
  );
}

/**
 * A longitude or latitude as people read it: degrees with 5 decimals (~1 m) and the hemisphere's
 * letter, never a sign ("5,00000° O" in French, "5.00000° W" in English).
 * @param {'lon'|'lat'} axis
 */
export function formatCoordinate(value, axis) {
  const [positive, negative] = axis === 'lat' ? ['N', 'S'] : ['E', 'W'];
  // Rounded first, so -0.000001 reads 0,00000° E rather than 0,00000° O.
  const rounded = Math.round(value * 1e5) / 1e5;
  return t(`coord.${rounded < 0 ? negative : positive}`, { value: formatNumber(Math.abs(rounded), 5) });
}

/** Metres as "850 m" or "3,5 km". */
export function formatDistance(metres) {
  if (metres < 1000) return `${formatNumber(Math.round(metres))} m`;
  return `${formatNumber(metres / 1000, metres < 10000 ? 1 : 0)} km`;
}
