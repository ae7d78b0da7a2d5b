import type { incidentDetail } from './presenter.js';

type Detail = Awaited<ReturnType<typeof incidentDetail>>;

/**
 * The incident as an EIDO-shaped JSON document (NENA-STA-024, Emergency Incident Data Object):
 * incident, call, location, agency, emergency-resource and notes components, so another centre's
 * CAD can take the incident over. Caller details follow the requester's masking.
 */
export function toEido(d: Detail, agency: { id: string; name: string }, sender: string) {
  const id = (suffix: string) => `urn:pingan:${d.id}:${suffix}`;
  return {
    $schema: 'https://www.nena.org/page/EIDO',
    eidoMessageIdentifier: `urn:pingan:eido:${d.id}:${d.events.at(-1)?.seq ?? 0}`,
    lastUpdateTimeStamp: d.events.at(-1)?.at ?? d.createdAt,
    sendingSystemIdentifier: sender,
    incidentComponent: [
      {
        $id: id('incident'),
        incidentTrackingIdentifier: d.number,
        incidentTypeCommonRegistryText: [d.category],
        incidentStatusCommonRegistryCode: d.status,
        incidentPriority: d.priority,
        incidentStartTimeStamp: d.createdAt,
        incidentEndTimeStamp: d.closedAt,
        incidentDispositionCode: d.disposition,
        incidentNotesReference: d.events.map((e) => id(`note-${e.seq}`)),
        locationReference: d.lon !== null ? [id('location')] : [],
        callReference: d.calls.map((c) => id(`call-${c.id}`)),
        emergencyResourceReference: d.assignments.map((a) => id(`resource-${a.id}`)),
        agencyReference: [id('agency')],
      },
    ],
    callComponent: d.calls.map((c) => ({
      $id: id(`call-${c.id}`),
      callTypeDescription: c.source,
      callStartTimeStamp: c.receivedAt,
      callbackNumber: c.callerPhone,
      callerName: c.callerName,
      callDescription: c.content,
      callRecordingReference: c.audioUrl,
    })),
    locationComponent:
      d.lon !== null
        ? [{ $id: id('location'), locationByValue: { type: 'Point', coordinates: [d.lon, d.lat], crs: 'WGS84' }, civicAddressText: d.address }]
        : [],
    agencyComponent: [{ $id: id('agency'), agencyIdentifier: agency.id, agencyName: agency.name }],
    emergencyResourceComponent: d.assignments.map((a) => ({
      $id: id(`resource-${a.id}`),
      resourceIdentifier: a.unitId,
      resourceCallSign: a.callSign,
      resourceTypeCode: a.unitType,
      resourceStatus: a.status,
      statusTimeStamps: { dispatched: a.dispatchedAt, acknowledged: a.acknowledgedAt, enRoute: a.enRouteAt, onScene: a.onSceneAt, cleared: a.clearedAt, cancelled: a.cancelledAt },
    })),
    notesComponent: d.events.map((e) => ({ $id: id(`note-${e.seq}`), noteDateTimeStamp: e.at, noteText: e.type, noteData: e.data, noteAuthor: e.actorId })),
  };
}
