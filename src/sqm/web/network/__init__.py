"""Pages of network quality: overview, map, worst cells, cells and alerts."""
