namespace Discemu.Formats.Dmg;

/// <summary>
/// One resource of a UDIF image's metadata, from the XML property list (<c>resource-fork</c> dictionary) or
/// from a legacy resource fork: its four-character type ("blkx", "plst"...), id, name and raw data.
/// </summary>
internal sealed record DmgResource(string Type, int Id, string Name, int Attributes, byte[] Data);
